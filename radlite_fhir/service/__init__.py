"""The drop-folder service: an interface engine drops files in, results come out, nothing lost."""
