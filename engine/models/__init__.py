"""Models a network scenario trains: the dense network (engine.models.dense) and its parts."""
