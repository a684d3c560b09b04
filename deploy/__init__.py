"""Running the dashboard for a hall: HAProxy in front of several Streamlit replicas (issue 21)."""
