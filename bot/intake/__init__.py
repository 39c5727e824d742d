"""The interview itself as a feature: asking, answering, the review, the lifecycle moves."""
