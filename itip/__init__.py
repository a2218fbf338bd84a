"""itip: IT i praksis releases -> validated DuckDB trend warehouse.

The package holds the pure library (reading, validation, harmonisation,
statistics, warehouse access). Prefect orchestration lives in `flows/`, Pandera
models and the codebook in `schemas/`, warehouse SQL in `warehouse/sql/`.
"""

__version__ = "0.1.0"
