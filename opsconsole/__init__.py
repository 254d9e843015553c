"""opsconsole: a terminal operations console where an LLM agent works a Kubernetes cluster."""

__version__ = "0.1.0"
