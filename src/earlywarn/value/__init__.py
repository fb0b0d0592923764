"""What the list is worth: a simulated office works a policy's list every morning."""
