"""What a model is: booster, calibration, thresholds, feature list and labels as one artifact."""
