"""The job worker, one job per module: the claim loop (``loop``), one claimed job's run
(``runner``), and its steps: download, stylize, deliver, progress; and the queue positions
shown to the jobs still waiting (``positions``)."""
