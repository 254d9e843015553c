"""``opsconsole eval`` (headless): a scenario suite on the built-in sandbox that scores any
OpenAI-compatible model or the offline planner.

- :mod:`.scenario`      scenarios as YAML data (built-in ``scenarios/`` + the user's
                        ``<data dir>/evals``), validated with clear errors; ``select``
- :mod:`.harness`       one scenario = fresh sandbox + set-up + one agent run + judge
- :mod:`.judge`         answer keyword/regex rules, forbidden claims, manifests (server dry
                        run), tools, cluster state after fix tasks
- :mod:`.results`       versioned results file (``write_results`` / ``load_results``)
- :mod:`.report`        progress bar, table, JSON lines (plain text, no rich)
- :mod:`.from_session`  a recorded session -> a scenario file
- :mod:`.cli`           ``run_eval(args, settings) -> int``

Nothing here imports textual or rich; kubernetes and openai are imported when a run starts.
"""
