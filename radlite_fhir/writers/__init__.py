"""Writers turn `Findings` into output formats; they know nothing of models or inputs."""
