"""The SQL repositories, one per aggregate, sharing one connection (one transaction)."""
