"""training: reproduce RadLite's multi-task LoRA adapters and train the project's own.

Data flows one way: `sources` (one loader per published format, reading a path the user
gives) and `synthetic` (reports generated from ACR rules) yield `Record`s; `builder` turns
them into chat samples with the product's own prompt code; `train` fits a peft LoRA adapter;
`export` writes it in llama.cpp's GGUF LoRA format; `evaluate` runs the product's pipeline
over a held-out split with and without the adapter.
"""
