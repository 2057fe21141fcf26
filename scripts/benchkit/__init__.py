"""The parts of scripts/bench.py, one job each:

  stand_ins    the simulator and moto for one run, the data set's own count of eligible
               sessions, the simulator's counters sampled over time
  runtime_api  the Lambda Runtime API stub that hands the function one event
  function     one sweep by the built function
  baseline     the Power Automate flow's shape, as a plain HTTP client
  report       targets, verdicts and the printed tables
  chart        the SVG picture, written by hand (no plotting library)

Standard library only, apart from boto3 through scripts/localstack.py.
"""
