"""Journeys and cascades: versioned graphs of steps, enrollments, and the engine that runs them."""
