"""QA reviews: the rubric, reviews, calibration, sampling and the voice of the customer."""
