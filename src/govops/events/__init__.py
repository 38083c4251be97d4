"""Domain events: one outbox that every domain writes into, read by webhooks, the event stream and the change feed."""
