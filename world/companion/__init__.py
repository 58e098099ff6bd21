"""The AI companion (issue 16): `explain`, `document!`, `suggest` and the REPL's `,ask`.

`context.py` gathers what a question is about (source, docstring, history, callers,
checks); `prompts.py` writes the prompts; `calls.py` reaches the model through
world/evolve/model.py and records every call's cost in the world (`usage.py`);
`proposals.py` turns a reply into a redefinition and holds the one pending proposal;
`trial.py` tries a suggestion in a sandboxed copy of what it needs; `prims.py` is the
Lisp side (capability group `companion`); `live.py` is where a REPL receives the answer
as it streams in. Model text is untrusted data: nothing it says is evaluated in the world
until the user accepts a proposal.
"""
