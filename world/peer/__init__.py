"""Federation: signed Lisp messages between worlds, the peer endpoint, agent files
and cartridges (issue 15). Programs are the wire format: every message is the
world's canonical printed text, signed with Ed25519, and every remote program
runs in a fresh sandbox granted no more than its sender's trust record allows."""
