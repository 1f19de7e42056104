"""keras-io's examples and guides that use recurrent layers, run on recurra with only the imports changed
(``import recurra as keras``, ``from recurra import layers, ops``) and the data replaced by small generated
data; each module's docstring names its source and lists every other change."""
