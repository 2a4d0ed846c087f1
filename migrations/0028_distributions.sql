-- Delivery of releases to stores: one distribution per release and store, its state, and what its
-- latest message said. An SFTP store pins its server's host key.
ALTER TABLE stores ADD COLUMN host_key text CHECK (length(host_key) BETWEEN 1 AND 4096);

CREATE TABLE distributions (
    id              uuid        PRIMARY KEY,
    release_id      uuid        NOT NULL REFERENCES releases (id),
    store_id        uuid        NOT NULL REFERENCES stores (id),
    state           text        NOT NULL CHECK (state IN ('pending', 'queued', 'delivering', 'delivered',
                                                          'acknowledged', 'failed')),
    -- What the next (or latest) message says: the release with its deals, or its takedown.
    action          text        NOT NULL DEFAULT 'release' CHECK (action IN ('release', 'takedown')),
    deliver_at      timestamptz NOT NULL,
    attempts        integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    message_id      text,
    batch           text,
    last_error      text,
    delivered_at    timestamptz,
    acknowledged_at timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    UNIQUE (release_id, store_id)
);
CREATE INDEX distributions_store_idx ON distributions (store_id) WHERE state = 'delivered';

INSERT INTO notification_templates (kind, title, body, email, updated_at) VALUES
    ('catalog.release_scheduled', '"{{title}}" is scheduled', 'Hi {{display_name}}, "{{title}}" by {{artist}} will be delivered to {{stores}}.', false, now()),
    ('catalog.release_live', '"{{title}}" is live at {{store}}', 'Hi {{display_name}}, {{store}} confirmed "{{title}}" by {{artist}}.', true, now()),
    ('catalog.delivery_failed', 'Delivery of "{{title}}" to {{store}} failed', 'Hi {{display_name}}, delivering "{{title}}" by {{artist}} to {{store}} failed: {{reason}}', true, now()),
    ('catalog.takedown_requested', 'Takedown of "{{title}}" requested', 'Hi {{display_name}}, "{{title}}" by {{artist}} is being taken down from its stores.', true, now()),
    ('catalog.release_taken_down', '"{{title}}" is taken down', 'Hi {{display_name}}, every store confirmed the takedown of "{{title}}" by {{artist}}.', true, now());
