// Everything one user did in a time range: the blast radius of a user account.
//
// Parameters
//   $user  the user's id or name, e.g. 'alice'
//   $from  start of the range, inclusive (ISO 8601 text or a DateTime)
//   $to    end of the range, exclusive
//
// Neo4j Browser:  :params {user: 'alice', from: '2024-05-01T00:00:00Z', to: '2024-05-02T00:00:00Z'}
//
// One row per action, oldest first, with the resource it touched, the project and source IP.
MATCH (u:User)
WHERE u.id = $user OR u.name = $user
MATCH (a:Action)-[:PERFORMED_BY]->(u)
WHERE datetime($from) <= a.time < datetime($to)
OPTIONAL MATCH (a)-[:APPLIED_ON]->(r:Resource)
OPTIONAL MATCH (a)-[:FROM_IP]->(ip:IpAddress)
OPTIONAL MATCH (a)-[:IN_PROJECT]->(p:Project)
RETURN a.time AS time,
       u.name AS user,
       a.service AS service,
       a.name AS action,
       a.rating AS rating,
       r.key AS resource,
       r.name AS resourceName,
       ip.address AS sourceIp,
       p.id AS project
ORDER BY time, action
