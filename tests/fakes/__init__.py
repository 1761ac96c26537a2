"""Hand-written fakes of our own domain ports (never of alpaca-py or boto3) for unit tests."""
