"""The tests, laid out as the code is (impls, core, suite, report, commands); helpers in support/."""
