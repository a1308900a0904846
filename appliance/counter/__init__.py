"""The counter's use cases over the store: what the counter screen and `appliance simulate` call."""
