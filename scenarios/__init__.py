"""The bundled scenario files (TOML) and the data they name; installed as ``gdlab_scenarios``."""
