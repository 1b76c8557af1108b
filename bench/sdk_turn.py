#!/usr/bin/env python3
"""One turn through the official Python SDK (`openai-codex`), public API only; the arguments are
config overrides (`key=value`), as for `codex -c`."""
import sys

from openai_codex import Codex, CodexConfig

with Codex(CodexConfig(config_overrides=tuple(sys.argv[1:]))) as codex:
    print(codex.thread_start().run("Say hi").final_response)
