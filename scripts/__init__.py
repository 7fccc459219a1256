"""Project scripts: the demo and the helpers it shares with the Meltano tests."""
