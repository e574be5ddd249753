-- +goose Up
-- One row per record. attrs and tags are JSON copies kept so that reads never
-- touch the attrs table, which exists only to index List filters.
CREATE TABLE resources (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    key        TEXT    NOT NULL UNIQUE,
    kind       TEXT    NOT NULL,
    parent     TEXT    NOT NULL DEFAULT '',
    lookup     TEXT,
    attrs      TEXT,
    tags       TEXT,
    data       BLOB,
    created_at INTEGER NOT NULL,
    version    INTEGER NOT NULL,
    UNIQUE (kind, lookup)
);

CREATE INDEX resources_kind_seq ON resources (kind, seq);
CREATE INDEX resources_parent_kind_seq ON resources (parent, kind, seq);

CREATE TABLE attrs (
    seq   INTEGER NOT NULL REFERENCES resources (seq) ON DELETE CASCADE,
    name  TEXT    NOT NULL,
    value TEXT    NOT NULL
);

CREATE INDEX attrs_name_value_seq ON attrs (name, value, seq);
CREATE INDEX attrs_seq ON attrs (seq);

-- +goose Down
DROP TABLE attrs;
DROP TABLE resources;
