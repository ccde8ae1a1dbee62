"""Storage: SQLAlchemy models, the engine (SQLite by default, PostgreSQL by URL), migrations."""
