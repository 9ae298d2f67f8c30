"""Training: data building, the training loop and fine-tuning; builds on core/, never on Qt."""
