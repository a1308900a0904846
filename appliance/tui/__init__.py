"""The counter screen: a Textual POS that runs a whole day without a network link."""
