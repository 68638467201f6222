"""Training stabilized style generators: loss network, losses, data, the loop, evaluation."""
