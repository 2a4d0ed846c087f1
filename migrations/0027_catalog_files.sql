-- Files kept in object storage, one row per content (SHA-256): the same bytes are stored once.
CREATE TABLE stored_files (
    sha256     text        PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size       bigint      NOT NULL CHECK (size > 0),
    md5        text        NOT NULL CHECK (md5 ~ '^[0-9a-f]{32}$'),
    media_type text        NOT NULL CHECK (length(media_type) BETWEEN 1 AND 100),
    created_at timestamptz NOT NULL
);

-- A track's audio, as decoded and measured (EBU R128 loudness and true peak).
CREATE TABLE track_audio (
    track_id        uuid         PRIMARY KEY REFERENCES tracks (id) ON DELETE CASCADE,
    sha256          text         NOT NULL REFERENCES stored_files (sha256),
    size            bigint       NOT NULL CHECK (size > 0),
    md5             text         NOT NULL CHECK (md5 ~ '^[0-9a-f]{32}$'),
    format          text         NOT NULL CHECK (format IN ('wav', 'flac')),
    sample_rate     integer      NOT NULL CHECK (sample_rate > 0),
    bits_per_sample smallint     NOT NULL CHECK (bits_per_sample > 0),
    channels        smallint     NOT NULL CHECK (channels > 0),
    duration_ms     integer      NOT NULL CHECK (duration_ms > 0),
    loudness_lufs   numeric(6, 2),
    true_peak_dbtp  numeric(6, 2),
    clipped_samples bigint       NOT NULL DEFAULT 0 CHECK (clipped_samples >= 0),
    file_name       text         CHECK (length(file_name) BETWEEN 1 AND 255),
    uploaded_by     uuid         NOT NULL REFERENCES users (id),
    uploaded_at     timestamptz  NOT NULL
);
CREATE INDEX track_audio_file_idx ON track_audio (sha256);

-- A release's cover art.
CREATE TABLE release_artwork (
    release_id  uuid        PRIMARY KEY REFERENCES releases (id) ON DELETE CASCADE,
    sha256      text        NOT NULL REFERENCES stored_files (sha256),
    size        bigint      NOT NULL CHECK (size > 0),
    md5         text        NOT NULL CHECK (md5 ~ '^[0-9a-f]{32}$'),
    format      text        NOT NULL CHECK (format IN ('jpeg', 'png')),
    width       integer     NOT NULL CHECK (width > 0),
    height      integer     NOT NULL CHECK (height > 0),
    uploaded_by uuid        NOT NULL REFERENCES users (id),
    uploaded_at timestamptz NOT NULL
);
CREATE INDEX release_artwork_file_idx ON release_artwork (sha256);
