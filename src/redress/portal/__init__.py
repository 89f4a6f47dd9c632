"""What the investor portal tells an investor, in plain words and in their own language.

``story`` turns the engine's explanation of a claim into a short account with the investor's own numbers,
and into the detailed steps and trades behind it, each article named in words.
"""
