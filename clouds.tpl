# Template for clouds.yaml (OpenStack client configuration) used by cts_exporter.
# Copy it to ./clouds.yaml, ~/.config/openstack/clouds.yaml or /etc/openstack/clouds.yaml and
# fill in your tenant's values. Fill either username/password or ak/sk; when both are present,
# AK/SK is used. Secrets may also live in a separate secure.yaml with the same structure.
clouds:
  otc:
    profile: otc
    auth:
      username: '<USER_NAME>'
      password: '<PASSWORD>'
      ak: '<ACCESS_KEY>'
      sk: '<SECRET_KEY>'
      project_name: 'eu-de_<PROJECT_NAME>'
      user_domain_name: 'OTC00000000001000000xxx'
      auth_url: 'https://iam.eu-de.otc.t-systems.com:443/v3'
    interface: 'public'
    identity_api_version: 3
