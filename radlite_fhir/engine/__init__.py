"""Models: the registry (which GGUFs, verified how), fetching, the llama.cpp runtime, routing."""
