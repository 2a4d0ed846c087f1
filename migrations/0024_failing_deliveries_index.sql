-- /metrics counts webhook deliveries being retried and given up at every scrape, without reading the
-- delivered ones.
CREATE INDEX webhook_deliveries_failing_idx ON webhook_deliveries (endpoint_id)
    WHERE state = 'failed' OR (state = 'pending' AND attempts > 0);
