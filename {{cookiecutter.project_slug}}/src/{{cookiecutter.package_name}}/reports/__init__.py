"""Reports for people: ``html`` builds one self-contained page a person opens and shares;
``markdown`` the tables of the markdown ones; ``audit`` the ML Test Score self-audit."""
