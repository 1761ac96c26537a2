"""The domain: plan -> orders -> result. Imports neither boto3 nor alpaca-py; talks to ports."""
