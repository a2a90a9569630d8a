"""``index.html``: one self-contained page (figures inlined as base64 PNG, no scripts,
no external files)."""

import base64
import html

import tapegrad as tg
from tapegrad.lab._common import fmt

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto;
       padding: 0 1em; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2em; }
nav a { margin-right: 0.8em; white-space: nowrap; }
section { border-top: 1px solid #ddd; margin-top: 2em; padding-top: 0.5em; }
.claim { font-size: 1.05em; }
.formula { font-family: 'DejaVu Serif', Georgia, serif; background: #f6f6f2;
           padding: 0.5em 0.8em; border-left: 3px solid #bbb; white-space: pre-wrap; }
img { max-width: 100%; height: auto; }
table { border-collapse: collapse; width: 100%; font-size: 0.92em; }
td, th { border-bottom: 1px solid #eee; padding: 0.25em 0.5em; text-align: left;
         vertical-align: top; }
td.mark { font-size: 1.2em; width: 1.5em; }
.pass { color: #137333; } .fail { color: #b3261e; font-weight: bold; }
.meta { color: #666; font-size: 0.9em; }
"""


def _measured(value):
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        return fmt(value)
    return str(value)


def _section(entry, module, png_path):
    with open(png_path, "rb") as f:
        data = base64.b64encode(f.read()).decode("ascii")
    esc = html.escape
    rows = []
    for c in entry["checks"]:
        mark, cls = ("✓", "pass") if c["passed"] else ("✗", "fail")
        rows.append(f"<tr><td class='mark {cls}'>{mark}</td><td>{esc(c['claim'])}</td>"
                    f"<td>{esc(_measured(c['measured']))}</td><td>{esc(c['expected'])}</td>"
                    "</tr>")
    passed = sum(c["passed"] for c in entry["checks"])
    return f"""
<section id="{esc(entry['name'])}">
<h2>{esc(entry['title'])} <span class="meta">({esc(entry['name'])})</span></h2>
<p class="claim">{esc(entry['seed_claim'])}</p>
<div class="formula">{esc(module.FORMULA)}</div>
<p><img src="data:image/png;base64,{data}" alt="{esc(entry['figure'])}"
 title="{esc(entry['figure'])}"></p>
<table><tr><th></th><th>claim</th><th>measured</th><th>expected</th></tr>
{''.join(rows)}
</table>
<p class="meta">{passed}/{len(entry['checks'])} checks passed · {entry['seconds']:.1f} s</p>
</section>"""


def write_html(path, results, figures, experiments, quick=False, seed=0):
    """Writes the page for ``results`` (as in ``results.json``); ``figures`` maps each
    experiment name to its PNG file, ``experiments`` to its module."""
    entries = results["experiments"]
    total = sum(len(e["checks"]) for e in entries)
    passed = sum(c["passed"] for e in entries for c in e["checks"])
    nav = " ".join(
        f"<a href='#{html.escape(e['name'])}'>"
        f"{'✓' if all(c['passed'] for c in e['checks']) else '✗'} {html.escape(e['name'])}</a>"
        for e in entries)
    sections = "".join(_section(e, experiments[e["name"]], figures[e["name"]]) for e in entries)
    mode = "quick" if quick else "full"
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>tapegrad lab</title>
<style>{_STYLE}</style></head>
<body>
<h1>tapegrad lab</h1>
<p class="meta">tapegrad {html.escape(tg.__version__)} · {mode} run · seed {seed} ·
{passed}/{total} checks passed</p>
<p>Each section states a claim of the lecture notes, the notes' formula, a figure made by
running it on tapegrad, and the checks: a measured value held to what the notes
expect.</p>
<nav>{nav}</nav>
{sections}
</body></html>
"""
    with open(path, "w", encoding="utf-8") as f:
        f.write(page)
