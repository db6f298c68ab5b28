"""Mail: an outbox filled in the transaction of the change that causes each message, and
sent from there after the response, or later by ``flask --app referral clocks run``."""
