"""Pure media and model code: generators, style packs, image and video I/O, the inference pool.

Nothing here imports the bot or the database.
"""
