"""Adapters: the AWS and Alpaca implementations of the domain's ports."""
