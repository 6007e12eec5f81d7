"""The grader's pieces (Python 3 standard library only); grading/grade.py is the entry point.

  labspec   what a lab is: the lab() call, rubric.txt, bad-submission MANIFESTs
  bazel     builds the hidden tests against a submission (generated repository + override)
  sandbox   runs one test process with limits and capped output
  classify  why a run failed: timeout, sanitizer, leaked goroutine, deadlock, crash, assertion
  engine    grades one submission: builds x seeds x cases, scoring
  report    terminal progress and table, Gradescope results.json, JUnit XML
"""
