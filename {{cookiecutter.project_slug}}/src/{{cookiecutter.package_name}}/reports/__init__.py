"""Reports for people: ``html`` builds one self-contained page a person opens and shares."""
