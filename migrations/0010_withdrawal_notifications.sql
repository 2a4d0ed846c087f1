-- Tell users when a withdrawal is paid or fails.
INSERT INTO notification_templates (kind, title, body, email, updated_at) VALUES
    ('withdrawal.paid', 'Your withdrawal of {{amount}} was paid',
     'Hi {{display_name}}, {{amount}} is on its way to {{method}}.', true, now()),
    ('withdrawal.failed', 'Your withdrawal of {{amount}} did not go through',
     'Hi {{display_name}}, the payout of {{amount}} to {{method}} failed ({{reason}}). The money is back in your available balance.',
     true, now());
