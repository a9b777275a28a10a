"""Request bodies captured from kubectl 1.35 (`--validate=false`), with the JSON each must
decode to: the object as `kubectl create ... --dry-run=client -o json` would print it."""

from typing import Any

# (command, body, expected JSON)
BODIES: dict[str, tuple[str, bytes, dict[str, Any]]] = {
    "configmap": (
        'kubectl create configmap foo --from-literal=a=b',
        b'k8s\x00\n\x0f\n\x02v1\x12\tConfigMap\x12\x1d\n\x13\n\x03foo\x12\x00\x1a\x00"\x00*\x002\x008\x00B\x00\x12\x06\n\x01'
        b'a\x12\x01b\x1a\x00"\x00',
        {'apiVersion': 'v1',
         'kind': 'ConfigMap',
         'metadata': {'name': 'foo'},
         'data': {'a': 'b'}},
    ),
    "crb": (
        'kubectl create clusterrolebinding crb1 --clusterrole=cr1 --group=g1',
        b'k8s\x00\n2\n\x1crbac.authorization.k8s.io/v1\x12\x12ClusterRol'
        b'eBinding\x12o\n\x14\n\x04crb1\x12\x00\x1a\x00"\x00*\x002\x008\x00B\x00\x12(\n\x05Group\x12\x19rbac.'
        b'authorization.k8s.io\x1a\x02g1"\x00\x1a-\n\x19rbac.authorization'
        b'.k8s.io\x12\x0bClusterRole\x1a\x03cr1\x1a\x00"\x00',
        {'apiVersion': 'rbac.authorization.k8s.io/v1',
         'kind': 'ClusterRoleBinding',
         'metadata': {'name': 'crb1'},
         'subjects': [{'kind': 'Group', 'apiGroup': 'rbac.authorization.k8s.io', 'name': 'g1'}],
         'roleRef': {'apiGroup': 'rbac.authorization.k8s.io',
                     'kind': 'ClusterRole',
                     'name': 'cr1'}},
    ),
    "deployment": (
        'kubectl create deployment web --image=nginx --replicas=2',
        b'k8s\x00\n\x15\n\x07apps/v1\x12\nDeployment\x12\xab\x01\n\x1f\n\x03web\x12\x00\x1a\x00"\x00*\x002\x008'
        b'\x00B\x00Z\n\n\x03app\x12\x03web\x12z\x08\x02\x12\x0c\n\n\n\x03app\x12\x03web\x1a`\n\x1c\n\x00\x12\x00\x1a\x00"\x00*\x002'
        b'\x008\x00B\x00Z\n\n\x03app\x12\x03web\x12@\x12"\n\x05nginx\x12\x05nginx*\x00B\x00j\x00r\x00\x80\x01\x00\x88\x01'
        b'\x00\x90\x01\x00\xa2\x01\x00\x1a\x002\x00B\x00J\x00R\x00X\x00`\x00h\x00\x82\x01\x00\x8a\x01\x00\x9a\x01\x00\xc2\x01\x00"\x02\n\x00(\x008\x00\x1a\x0c\x08\x00\x10'
        b'\x00\x18\x00 \x00(\x008\x00\x1a\x00"\x00',
        {'apiVersion': 'apps/v1',
         'kind': 'Deployment',
         'metadata': {'name': 'web', 'labels': {'app': 'web'}},
         'spec': {'replicas': 2,
                  'selector': {'matchLabels': {'app': 'web'}},
                  'template': {'metadata': {'labels': {'app': 'web'}},
                               'spec': {'containers': [{'name': 'nginx',
                                                        'image': 'nginx',
                                                        'resources': {}}]}},
                  'strategy': {}},
         'status': {}},
    ),
    "deployment0": (
        'kubectl create deployment zero --image=nginx --replicas=0 --port=80',
        b'k8s\x00\n\x15\n\x07apps/v1\x12\nDeployment\x12\xbc\x01\n!\n\x04zero\x12\x00\x1a\x00"\x00*\x002\x00'
        b'8\x00B\x00Z\x0b\n\x03app\x12\x04zero\x12\x88\x01\x08\x00\x12\r\n\x0b\n\x03app\x12\x04zero\x1am\n\x1d\n\x00\x12\x00\x1a\x00"'
        b'\x00*\x002\x008\x00B\x00Z\x0b\n\x03app\x12\x04zero\x12L\x12.\n\x05nginx\x12\x05nginx*\x002\n\n\x00\x10\x00'
        b'\x18P"\x00*\x00B\x00j\x00r\x00\x80\x01\x00\x88\x01\x00\x90\x01\x00\xa2\x01\x00\x1a\x002\x00B\x00J\x00R\x00X\x00`\x00h\x00\x82\x01\x00\x8a\x01\x00\x9a\x01'
        b'\x00\xc2\x01\x00"\x02\n\x00(\x008\x00\x1a\x0c\x08\x00\x10\x00\x18\x00 \x00(\x008\x00\x1a\x00"\x00',
        {'apiVersion': 'apps/v1',
         'kind': 'Deployment',
         'metadata': {'name': 'zero', 'labels': {'app': 'zero'}},
         'spec': {'replicas': 0,
                  'selector': {'matchLabels': {'app': 'zero'}},
                  'template': {'metadata': {'labels': {'app': 'zero'}},
                               'spec': {'containers': [{'name': 'nginx',
                                                        'image': 'nginx',
                                                        'ports': [{'containerPort': 80}],
                                                        'resources': {}}]}},
                  'strategy': {}},
         'status': {}},
    ),
    "secret": (
        "kubectl create secret generic s1 --from-literal=k=v --from-literal=bin=$'\\x01\\x02'",
        b'k8s\x00\n\x0c\n\x02v1\x12\x06Secret\x12)\n\x12\n\x02s1\x12\x00\x1a\x00"\x00*\x002\x008\x00B\x00\x12\t\n\x03bin\x12'
        b'\x02\x01\x02\x12\x06\n\x01k\x12\x01v\x1a\x00\x1a\x00"\x00',
        {'apiVersion': 'v1',
         'kind': 'Secret',
         'metadata': {'name': 's1'},
         'data': {'bin': 'AQI=', 'k': 'dg=='}},
    ),
    "service": (
        'kubectl create service clusterip svc1 --tcp=80:8080',
        b'k8s\x00\n\r\n\x02v1\x12\x07Service\x12l\n!\n\x04svc1\x12\x00\x1a\x00"\x00*\x002\x008\x00B\x00Z\x0b\n\x03a'
        b'pp\x12\x04svc1\x12C\n\x1b\n\x0780-8080\x12\x03TCP\x18P"\x07\x08\x00\x10\x90?\x1a\x00(\x00\x12\x0b\n\x03app\x12\x04'
        b'svc1\x1a\x00"\tClusterIP:\x00B\x00R\x00Z\x00`\x00h\x00\x1a\x02\n\x00\x1a\x00"\x00',
        {'apiVersion': 'v1',
         'kind': 'Service',
         'metadata': {'name': 'svc1', 'labels': {'app': 'svc1'}},
         'spec': {'ports': [{'name': '80-8080',
                             'protocol': 'TCP',
                             'port': 80,
                             'targetPort': 8080}],
                  'selector': {'app': 'svc1'},
                  'type': 'ClusterIP'},
         'status': {'loadBalancer': {}}},
    ),
    "job": (
        'kubectl create job j1 --image=busybox -- echo hi',
        b'k8s\x00\n\x0f\n\x08batch/v1\x12\x03Job\x12\x84\x01\n\x12\n\x02j1\x12\x00\x1a\x00"\x00*\x002\x008\x00B\x00\x12d2b'
        b'\n\x10\n\x00\x12\x00\x1a\x00"\x00*\x002\x008\x00B\x00\x12N\x12+\n\x02j1\x12\x07busybox\x1a\x04echo\x1a\x02hi*\x00B'
        b'\x00j\x00r\x00\x80\x01\x00\x88\x01\x00\x90\x01\x00\xa2\x01\x00\x1a\x05Never2\x00B\x00J\x00R\x00X\x00`\x00h\x00\x82\x01\x00\x8a\x01\x00\x9a\x01\x00\xc2'
        b'\x01\x00\x1a\x08 \x00(\x000\x00:\x00\x1a\x00"\x00',
        {'apiVersion': 'batch/v1',
         'kind': 'Job',
         'metadata': {'name': 'j1'},
         'spec': {'template': {'metadata': {},
                               'spec': {'containers': [{'name': 'j1',
                                                        'image': 'busybox',
                                                        'command': ['echo', 'hi'],
                                                        'resources': {}}],
                                        'restartPolicy': 'Never'}}},
         'status': {}},
    ),
    "cronjob": (
        "kubectl create cronjob cj1 --image=busybox --schedule='*/5 * * * *' -- date",
        b'k8s\x00\n\x13\n\x08batch/v1\x12\x07CronJob\x12\xa7\x01\n\x13\n\x03cj1\x12\x00\x1a\x00"\x00*\x002\x008\x00B'
        b'\x00\x12\x8d\x01\n\x0b*/5 * * * *\x1a\x00*|\n\x13\n\x03cj1\x12\x00\x1a\x00"\x00*\x002\x008\x00B\x00\x12e2c\n\x10'
        b'\n\x00\x12\x00\x1a\x00"\x00*\x002\x008\x00B\x00\x12O\x12(\n\x03cj1\x12\x07busybox\x1a\x04date*\x00B\x00j\x00r\x00'
        b'\x80\x01\x00\x88\x01\x00\x90\x01\x00\xa2\x01\x00\x1a\tOnFailure2\x00B\x00J\x00R\x00X\x00`\x00h\x00\x82\x01\x00\x8a\x01\x00\x9a\x01\x00\xc2\x01'
        b'\x00\x1a\x00\x1a\x00"\x00',
        {'apiVersion': 'batch/v1',
         'kind': 'CronJob',
         'metadata': {'name': 'cj1'},
         'spec': {'schedule': '*/5 * * * *',
                  'jobTemplate': {'metadata': {'name': 'cj1'},
                                  'spec': {'template': {'metadata': {},
                                                        'spec': {'containers': [{'name': 'cj1',
                                                                                 'image': 'busybox',
                                                                                 'command': ['date'],
                                                                                 'resources': {}}],
                                                                 'restartPolicy': 'OnFailure'}}}}},
         'status': {}},
    ),
    "namespace": (
        'kubectl create namespace ns1',
        b'k8s\x00\n\x0f\n\x02v1\x12\tNamespace\x12\x1b\n\x13\n\x03ns1\x12\x00\x1a\x00"\x00*\x002\x008\x00B\x00\x12\x00\x1a\x02'
        b'\n\x00\x1a\x00"\x00',
        {'apiVersion': 'v1',
         'kind': 'Namespace',
         'metadata': {'name': 'ns1'},
         'spec': {},
         'status': {}},
    ),
    "role": (
        'kubectl create role r1 --verb=get,list --resource=pods',
        b'k8s\x00\n$\n\x1crbac.authorization.k8s.io/v1\x12\x04Role\x12)\n\x12\n\x02'
        b'r1\x12\x00\x1a\x00"\x00*\x002\x008\x00B\x00\x12\x13\n\x03get\n\x04list\x12\x00\x1a\x04pods\x1a\x00"\x00',
        {'apiVersion': 'rbac.authorization.k8s.io/v1',
         'kind': 'Role',
         'metadata': {'name': 'r1'},
         'rules': [{'verbs': ['get', 'list'], 'apiGroups': [''], 'resources': ['pods']}]},
    ),
    "rolebinding": (
        'kubectl create rolebinding rb1 --role=r1 --user=alice --serviceaccount=default:sa1',
        b'k8s\x00\n+\n\x1crbac.authorization.k8s.io/v1\x12\x0bRoleBindin'
        b'g\x12\x8a\x01\n\x13\n\x03rb1\x12\x00\x1a\x00"\x00*\x002\x008\x00B\x00\x12*\n\x04User\x12\x19rbac.authoriz'
        b'ation.k8s.io\x1a\x05alice"\x00\x12 \n\x0eServiceAccount\x12\x00\x1a\x03sa1"\x07'
        b'default\x1a%\n\x19rbac.authorization.k8s.io\x12\x04Role\x1a\x02r1\x1a\x00'
        b'"\x00',
        {'apiVersion': 'rbac.authorization.k8s.io/v1',
         'kind': 'RoleBinding',
         'metadata': {'name': 'rb1'},
         'subjects': [{'kind': 'User',
                       'apiGroup': 'rbac.authorization.k8s.io',
                       'name': 'alice'},
                      {'kind': 'ServiceAccount', 'name': 'sa1', 'namespace': 'default'}],
         'roleRef': {'apiGroup': 'rbac.authorization.k8s.io', 'kind': 'Role', 'name': 'r1'}},
    ),
    "clusterrole": (
        'kubectl create clusterrole cr1 --aggregation-rule=a=b',
        b'k8s\x00\n+\n\x1crbac.authorization.k8s.io/v1\x12\x0bClusterRol'
        b'e\x12!\n\x13\n\x03cr1\x12\x00\x1a\x00"\x00*\x002\x008\x00B\x00\x1a\n\n\x08\n\x06\n\x01a\x12\x01b\x1a\x00"\x00',
        {'apiVersion': 'rbac.authorization.k8s.io/v1',
         'kind': 'ClusterRole',
         'metadata': {'name': 'cr1'},
         'aggregationRule': {'clusterRoleSelectors': [{'matchLabels': {'a': 'b'}}]}},
    ),
    "ingress": (
        "kubectl create ingress ing1 --rule='foo.com/bar=svc1:80,tls=sec'",
        b'k8s\x00\n\x1f\n\x14networking.k8s.io/v1\x12\x07Ingress\x12Z\n\x14\n\x04ing1\x12'
        b'\x00\x1a\x00"\x00*\x002\x008\x00B\x00\x12>\x12\x0e\n\x07foo.com\x12\x03sec\x1a,\n\x07foo.com\x12!\n\x1f\n\x1d'
        b'\n\x04/bar\x12\x0e"\x0c\n\x04svc1\x12\x04\n\x00\x10P\x1a\x05Exact\x1a\x02\n\x00\x1a\x00"\x00',
        {'apiVersion': 'networking.k8s.io/v1',
         'kind': 'Ingress',
         'metadata': {'name': 'ing1'},
         'spec': {'tls': [{'hosts': ['foo.com'], 'secretName': 'sec'}],
                  'rules': [{'host': 'foo.com',
                             'http': {'paths': [{'path': '/bar',
                                                 'backend': {'service': {'name': 'svc1',
                                                                         'port': {'number': 80}}},
                                                 'pathType': 'Exact'}]}}]},
         'status': {'loadBalancer': {}}},
    ),
    "pdb": (
        'kubectl create poddisruptionbudget pdb1 --selector=app=web --min-available=50%',
        b'k8s\x00\n \n\tpolicy/v1\x12\x13PodDisruptionBudget\x12=\n\x14\n\x04pdb1'
        b'\x12\x00\x1a\x00"\x00*\x002\x008\x00B\x00\x12\x19\n\t\x08\x01\x10\x00\x1a\x0350%\x12\x0c\n\n\n\x03app\x12\x03web\x1a\n\x08\x00\x18\x00 '
        b'\x00(\x000\x00\x1a\x00"\x00',
        {'apiVersion': 'policy/v1',
         'kind': 'PodDisruptionBudget',
         'metadata': {'name': 'pdb1'},
         'spec': {'minAvailable': '50%', 'selector': {'matchLabels': {'app': 'web'}}},
         'status': {'disruptionsAllowed': 0,
                    'currentHealthy': 0,
                    'desiredHealthy': 0,
                    'expectedPods': 0}},
    ),
    "priorityclass": (
        'kubectl create priorityclass pc1 --value=1000 --description=hi --preemption-policy=Never',
        b'k8s\x00\n%\n\x14scheduling.k8s.io/v1\x12\rPriorityClass\x12%\n\x13\n'
        b'\x03pc1\x12\x00\x1a\x00"\x00*\x002\x008\x00B\x00\x10\xe8\x07\x18\x00"\x02hi*\x05Never\x1a\x00"\x00',
        {'apiVersion': 'scheduling.k8s.io/v1',
         'kind': 'PriorityClass',
         'metadata': {'name': 'pc1'},
         'value': 1000,
         'description': 'hi',
         'preemptionPolicy': 'Never'},
    ),
    "quota": (
        'kubectl create quota q1 --hard=cpu=1,memory=1G,pods=2 --scopes=BestEffort',
        b'k8s\x00\n\x13\n\x02v1\x12\rResourceQuota\x12M\n\x12\n\x02q1\x12\x00\x1a\x00"\x00*\x002\x008\x00B\x00\x12'
        b'5\n\n\n\x03cpu\x12\x03\n\x011\n\x0e\n\x06memory\x12\x04\n\x021G\n\x0b\n\x04pods\x12\x03\n\x012\x12\nBest'
        b'Effort\x1a\x00\x1a\x00"\x00',
        {'apiVersion': 'v1',
         'kind': 'ResourceQuota',
         'metadata': {'name': 'q1'},
         'spec': {'hard': {'cpu': '1', 'memory': '1G', 'pods': '2'}, 'scopes': ['BestEffort']},
         'status': {}},
    ),
    "serviceaccount": (
        'kubectl create serviceaccount sa1',
        b'k8s\x00\n\x14\n\x02v1\x12\x0eServiceAccount\x12\x15\n\x13\n\x03sa1\x12\x00\x1a\x00"\x00*\x002\x008\x00B'
        b'\x00\x1a\x00"\x00',
        {'apiVersion': 'v1', 'kind': 'ServiceAccount', 'metadata': {'name': 'sa1'}},
    ),
}
