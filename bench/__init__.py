"""tapegrad's microbenchmarks (run them with ``tapegrad bench``)."""
