"""Screens and dialogs of the counter: sign-in, sell, pay, returns, shift, supervisor."""
