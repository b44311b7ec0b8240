"""An ML pipeline: baseline first, validated data, tracked experiments, monitored features."""

__version__ = "0.1.0"
