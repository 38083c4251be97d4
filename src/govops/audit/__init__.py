"""The audit trail: who did what, to what, when and from where, as one tamper-evident hash chain.

Every entry carries the SHA-256 of the previous entry's hash and its own content, so that changing or
removing an entry in the middle breaks the chain at a place `govops audit verify` names. An entry is
recorded in the same transaction as the action it records: the action and its entry stand or fall
together.
"""
