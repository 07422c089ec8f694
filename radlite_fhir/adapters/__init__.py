"""LoRA adapters (GGUF) shipped with the product; trained by training/ (see its recipes)."""
