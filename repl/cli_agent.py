"""`world agent run FILE --input FORM`, `world agent show NAME` and `world agent serve FILE`:
agent files (world/peer/agentfile.py) with their state kept in a world."""
from __future__ import annotations

import argparse
from dataclasses import replace
from typing import Any

from .cli_common import EXIT_OK, UsageError, add_json_arg, add_world_args, \
    open_world, out, print_value


def _allowed(args: argparse.Namespace) -> frozenset[str]:
    from world.peer.agentfile import allowed_caps
    try:
        return allowed_caps(args.caps)
    except ValueError as e:
        raise UsageError(str(e)) from None


def _limits(args: argparse.Namespace) -> Any:
    from world.peer.agentfile import AGENT_LIMITS
    if args.steps is None:
        return AGENT_LIMITS
    if args.steps < 1:
        raise UsageError(f"--steps must be at least 1, not {args.steps}")
    return replace(AGENT_LIMITS, steps=args.steps)


def cmd_agent_run(args: argparse.Namespace) -> int:
    """`world agent run FILE --input FORM [--state FILE]`: one run; print the new state."""
    from world.peer.agentfile import Agent, read_datum, read_text
    from world.peer.agentstate import run_agent
    agent = Agent(args.file, _allowed(args), _limits(args))
    input = read_datum(args.input, "--input", "the input")
    state, replace_state = None, False
    if args.state is not None:
        state = read_datum(read_text(args.state, "state file"), args.state, "the state file")
        replace_state = True
    # --steps is the agent's budget, not the world's (which stores the run)
    where = argparse.Namespace(**{k: v for k, v in vars(args).items() if k != "steps"})
    with open_world(where) as w:
        outcome = run_agent(w, agent, input, state=state, replace=replace_state)
    if outcome.output:
        out(outcome.output if outcome.output.endswith("\n") else outcome.output + "\n")
    out(outcome.text + "\n")
    return EXIT_OK


def cmd_agent_show(args: argparse.Namespace) -> int:
    """`world agent show NAME`: an agent's stored state and recent runs."""
    from world.peer.agentstate import names, show, show_text
    with open_world(args) as w:
        if args.name is None:
            found = names(w)
            out("".join(n + "\n" for n in found) if found else "no agent has run in this world\n")
            return EXIT_OK
        view = show(w, args.name, args.recent)
        if getattr(args, "json", False):
            print_value(args, view)
        else:
            out(show_text(view))
    return EXIT_OK


def cmd_agent_serve(args: argparse.Namespace) -> int:
    """`world agent serve FILE --address HOST:PORT`: the agent at a peer endpoint until stopped."""
    from world.peer.agentfile import Agent
    from world.peer.agentstate import endpoint
    from .cli_peer import serve_endpoint
    agent = Agent(args.file, _allowed(args))
    agent.check()           # a file that cannot run fails here, in one line, not per request
    return serve_endpoint(args, lambda w, signer: endpoint(w, signer, agent),
                          lambda address, key: f"serving agent {agent.spec.name} of {args.file} "
                                               f"on {address} key {key} (Ctrl-C stops)")


def register(sub: argparse._SubParsersAction) -> None:
    """Add `agent` with its subcommands run, show and serve."""
    p = sub.add_parser("agent", help="agent files (.lispy): run one, show its state, serve it")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)

    r = verbs.add_parser("run", help="run an agent file once on its stored state; print the new state")
    r.add_argument("file", help="the .lispy file defining AGENT and (run state input)")
    r.add_argument("--input", required=True, metavar="FORM", help="the input datum, as Lisp text")
    r.add_argument("--state", metavar="FILE",
                   help="a file holding one datum: the state to run from, replacing the stored one")
    r.add_argument("--caps", default="core", metavar="CAPS",
                   help="what the agent may be granted at most, from core,output,simulate "
                        "(default: core); it gets this and its AGENT :caps")
    r.add_argument("--steps", type=int, default=None, metavar="N",
                   help="step budget of loading and running the agent (default: 1000000)")
    add_world_args(r)
    r.set_defaults(func=cmd_agent_run)

    s = verbs.add_parser("show", help="an agent's stored state and recent runs (all agents' "
                         "names without NAME)")
    s.add_argument("name", nargs="?", help="the agent's AGENT :name")
    s.add_argument("--recent", type=int, default=10, metavar="N", help="runs to show (default: 10)")
    add_json_arg(s)
    add_world_args(s)
    s.set_defaults(func=cmd_agent_show)

    v = verbs.add_parser("serve", help="answer signed inputs from trusted peers with the agent's "
                         "new state, over WebSockets")
    v.add_argument("file", help="the .lispy file defining AGENT and (run state input)")
    v.add_argument("--address", metavar="HOST:PORT", default="127.0.0.1:8200",
                   help="where to listen (default: 127.0.0.1:8200; port 0: any free one)")
    v.add_argument("--tls", metavar="DIR", help="serve wss:// with DIR/server.pem, accepting only "
                   "clients whose certificate DIR/ca.pem signed (`world tls-init DIR`)")
    v.add_argument("--caps", default="core,output,simulate", metavar="CAPS",
                   help="the most any request may be granted, from core,output,simulate "
                        "(default: all three); each gets this, its AGENT :caps and the "
                        "sender's trust record")
    where = v.add_mutually_exclusive_group()
    where.add_argument("--world", metavar="PATH",
                       help="the image file (default: $WORLD_IMAGE, else images/world.fs)")
    where.add_argument("--memory", action="store_true", help="a fresh world that is not saved")
    v.set_defaults(func=cmd_agent_serve)

