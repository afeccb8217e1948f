"""The API's resources: one flask-smorest Blueprint per module."""
